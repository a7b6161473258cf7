"""Contoso Shoes: the reference system under test (shop, payments, order worker).

It stands in for a user's production system and never imports contval.
"""

__version__ = "0.1.0"
