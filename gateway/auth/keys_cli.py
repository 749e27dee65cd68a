"""``gateway keys new|list|revoke``: manage the hashed API keys file.

``register(subparsers)`` adds the ``keys`` command to the main CLI; each leaf parser sets
``func=<callable(args) -> int>``. The HMAC secret comes from ``GATEWAY_KEY_SECRET`` when set
(the gateway must run with the same secret to recognise the keys).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Any

from gateway.auth.api_keys import new_key, revoke_keys
from gateway.auth.keys_file import KeysFileError, read_records

SECRET_ENV = "GATEWAY_KEY_SECRET"

__all__ = ["SECRET_ENV", "main", "new_key", "register"]


def _attr(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"expected k=v, got {text!r}")
    return name.strip(), value.strip()


def _cmd_new(args: argparse.Namespace) -> int:
    secret = os.environ.get(SECRET_ENV) or None
    key = new_key(
        args.keys_file,
        args.account,
        args.tier,
        dict(args.attr or ()),
        secret,
        label=args.label,
    )
    print(f"key: {key}")
    print(f"account: {args.account}")
    hashing = "HMAC-SHA256 (GATEWAY_KEY_SECRET)" if secret else "SHA-256 (no GATEWAY_KEY_SECRET)"
    print(
        f"Stored its {hashing} hash in {args.keys_file}. The key is shown only once.",
        file=sys.stderr,
    )
    return 0


def _cmd_list(args: argparse.Namespace) -> int:
    records = read_records(args.keys_file)
    rows = [("ID", "ACCOUNT", "TIER", "STATUS", "KEY", "CREATED", "LABEL", "ATTRS")]
    for r in records:
        attrs = ",".join(f"{k}={v}" for k, v in sorted(r.attrs.items()))
        status = "revoked" if r.disabled else "active"
        rows.append(
            (
                r.id,
                r.account_id,
                r.tier or "-",
                status,
                r.hint or "-",
                r.created_at or "-",
                r.label or "-",
                attrs or "-",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        cells = [cell.ljust(w) for cell, w in zip(row, widths, strict=False)]
        print("  ".join([*cells, row[-1]]))
    return 0


def _cmd_revoke(args: argparse.Namespace) -> int:
    changed = revoke_keys(args.keys_file, key_id=args.id, account=args.account)
    print(f"revoked {changed} key(s)")
    return 0 if changed else 1


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``keys`` (with ``new``, ``list``, ``revoke``) to an argparse subparsers action."""
    keys: argparse.ArgumentParser = subparsers.add_parser(
        "keys", help="manage API keys (hashes only are stored)"
    )
    sub = keys.add_subparsers(dest="keys_command", required=True, metavar="{new,list,revoke}")

    new = sub.add_parser("new", help="create a key; prints it once")
    new.add_argument("--account", required=True, help="account id the key authenticates as")
    new.add_argument("--tier", default=None, help="policy tier (default: the policy default)")
    new.add_argument(
        "--attr",
        action="append",
        type=_attr,
        metavar="K=V",
        help="linking attribute, e.g. org_id=o1 payment_fingerprint=pf device_id=d (repeatable)",
    )
    new.add_argument("--label", default=None, help="free text shown by `keys list`")
    new.add_argument("--keys-file", required=True, help="keys file (created 0600 if absent)")
    new.set_defaults(func=_cmd_new)

    lst = sub.add_parser("list", help="list keys (no secrets)")
    lst.add_argument("--keys-file", required=True)
    lst.set_defaults(func=_cmd_list)

    rev = sub.add_parser("revoke", help="disable keys by id or account")
    which = rev.add_mutually_exclusive_group(required=True)
    which.add_argument("--id", help="key id shown by `keys list`")
    which.add_argument("--account", help="revoke every key of this account")
    rev.add_argument("--keys-file", required=True)
    rev.set_defaults(func=_cmd_revoke)
    return keys


def main(argv: Sequence[str] | None = None) -> int:
    """Standalone entry point: ``python -m gateway.auth.keys_cli keys new ...``."""
    parser = argparse.ArgumentParser(prog="gateway")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    try:
        result: int = args.func(args)
    except (KeysFileError, OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return result


if __name__ == "__main__":
    raise SystemExit(main())
