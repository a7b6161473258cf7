"""`python -m contoso_shoes up|down|status|tour|shop|payments|worker`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from contoso_shoes import control
from contoso_shoes.config import PaymentsLink, ShopSettings, parse_duration, parse_route_delays


def _duration(text: str) -> float:
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _delays(text: str) -> str:
    try:
        parse_route_delays(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m contoso_shoes", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    up = sub.add_parser("up", help="start shop, payments and worker; wait until healthy")
    up.add_argument("--dir", type=Path, required=True, help="run directory (db, logs, state.json)")
    up.add_argument("--host", default="127.0.0.1")
    up.add_argument("--port", type=int, default=8000, help="shop port (0: any free port)")
    up.add_argument("--payments-port", type=int, default=9100, help="payments port (0: any)")
    up.add_argument("--payments-url", help="URL the shop uses for payments (e.g. a fault proxy)")
    up.add_argument("--restart-delay", type=_duration, default=2.0, help="default 2s")
    up.add_argument("--ready-timeout", type=_duration, default=30.0)
    up.add_argument(
        "--delay",
        type=_delays,
        default="",
        help='added route delays, e.g. "GET /api/products=50ms,/api/orders=200ms"',
    )
    up.add_argument("--payments-delay", default="20ms", type=str, help="payments processing time")
    up.add_argument("--fulfil-time", default="20ms", type=str, help="worker time per order")
    up.add_argument("--detach", action="store_true", help="run in the background and return")

    down = sub.add_parser("down", help="stop everything `up` started in DIR")
    down.add_argument("--dir", type=Path, required=True)

    status = sub.add_parser("status", help="print DIR/state.json")
    status.add_argument("--dir", type=Path, required=True)

    tour = sub.add_parser("tour", help="walk through the shop's flows once")
    tour.add_argument("--dir", type=Path, help="read the shop URL from DIR/state.json")
    tour.add_argument("--url", help="shop base URL")

    shop = sub.add_parser("shop", help="run the shop API (normally started by `up`)")
    shop.add_argument("--db", required=True)
    shop.add_argument("--fd", type=int)
    shop.add_argument("--host", default="127.0.0.1")
    shop.add_argument("--port", type=int, default=8000)
    shop.add_argument("--payments-url")
    shop.add_argument("--delay", type=_delays, default="")

    pay = sub.add_parser("payments", help="run Payments (normally started by `up`)")
    pay.add_argument("--fd", type=int)
    pay.add_argument("--host", default="127.0.0.1")
    pay.add_argument("--port", type=int, default=9100)
    pay.add_argument("--delay", type=_duration, default=0.02)
    pay.add_argument("--jitter", type=_duration, default=None)

    worker = sub.add_parser("worker", help="run the order worker (normally started by `up`)")
    worker.add_argument("--db", required=True)
    worker.add_argument("--payments-url")
    worker.add_argument("--fulfil-time", type=_duration, default=0.02)
    worker.add_argument("--concurrency", type=int, default=16)
    return parser


def cmd_up(args: argparse.Namespace, argv: list[str]) -> int:
    from contoso_shoes.supervisor import UpOptions, run_foreground

    running = control.running_supervisor(args.dir)
    if running:
        print(
            f"already running in {args.dir} (supervisor pid {running}); "
            f"run `python -m contoso_shoes down --dir {args.dir}` first",
            file=sys.stderr,
        )
        return 1
    if args.detach:
        child_argv = [a for a in argv if a != "--detach"]
        try:
            state = control.start_detached(child_argv, args.dir, args.ready_timeout + 5)
        except RuntimeError as exc:
            print(f"contoso_shoes: {exc}", file=sys.stderr)
            return 1
        print(
            f"contoso shoes is up: shop {state['shop']['url']}  payments "
            f"{state['payments']['url']}  (state: {args.dir / 'state.json'})"
        )
        return 0
    options = UpOptions(
        dir=args.dir,
        host=args.host,
        port=args.port,
        payments_port=args.payments_port,
        payments_url=args.payments_url,
        restart_delay=args.restart_delay,
        ready_timeout=args.ready_timeout,
        route_delays=args.delay,
        payments_delay=args.payments_delay,
        fulfil_time=args.fulfil_time,
    )
    return run_foreground(
        options, on_ready=lambda s: print(f"contoso shoes is up: shop {s.shop_url}", flush=True)
    )


def run_service(args: argparse.Namespace) -> int:
    from contoso_shoes import services

    services.die_with_parent()
    if args.command == "shop":
        from contoso_shoes.shop import create_app

        link = PaymentsLink.from_env(args.payments_url)
        settings = ShopSettings(args.db, link, parse_route_delays(args.delay))
        services.serve(create_app(settings), args.fd, args.host, args.port)
    elif args.command == "payments":
        from contoso_shoes.payments import PaymentsSettings
        from contoso_shoes.payments import create_app as payments_app

        jitter = args.jitter if args.jitter is not None else args.delay / 4
        services.serve(
            payments_app(PaymentsSettings(args.delay, jitter)), args.fd, args.host, args.port
        )
    else:
        from contoso_shoes.worker import WorkerSettings

        link = PaymentsLink.from_env(args.payments_url)
        services.run_worker(WorkerSettings(args.db, link, args.fulfil_time, args.concurrency))
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser().parse_args(argv)
    if args.command == "up":
        return cmd_up(args, argv)
    if args.command == "down":
        for line in control.down(args.dir):
            print(line)
        return 0
    if args.command == "status":
        state = control.read_state(args.dir)
        print(json.dumps(state, indent=2) if state else f"no state.json in {args.dir}")
        return 0 if state else 1
    if args.command == "tour":
        from contoso_shoes.tour import tour

        state = control.read_state(args.dir) if args.dir else None
        url = args.url or (state["shop"]["url"] if state else "http://127.0.0.1:8000")
        return 0 if tour(url) else 1
    return run_service(args)


if __name__ == "__main__":
    sys.exit(main())
