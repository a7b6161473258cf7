from tests.chaos.faults.helpers import (
    fake_proxy,
    real_proxy,
    state_dir,
    stress_ng_installed,
    ticker,
)

__all__ = ["fake_proxy", "real_proxy", "state_dir", "stress_ng_installed", "ticker"]
