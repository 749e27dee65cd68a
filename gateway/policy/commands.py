"""``gateway policy check | explain | schema | docs``.

:func:`register` adds the commands to the CLI's subparsers; each handler takes the parsed
arguments and returns the exit code. :func:`main` runs them from an argv list (tests).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from gateway.policy.explain import Request, explain
from gateway.policy.loader import LoadedPolicy, PolicyError, load_policy
from gateway.policy.reference import render_reference
from gateway.policy.schema import Policy

SCHEMA_ID = "https://distillguard.dev/schemas/policy-v1.json"


def policy_json_schema() -> dict[str, Any]:
    """JSON Schema of the policy document (draft 2020-12), for editor completion."""
    schema = Policy.model_json_schema(by_alias=True)
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID, **schema}


def _check(args: argparse.Namespace) -> int:
    status = 0
    for path in args.paths:
        try:
            loaded = load_policy(path)
        except PolicyError as exc:
            status = 1
            for message in exc.messages:
                print(message, file=sys.stderr)
            count = len(exc.messages)
            noun = "problem" if count == 1 else "problems"
            print(f"invalid {path} ({count} {noun})", file=sys.stderr)
        else:
            print(f"ok {path} (version {loaded.version})")
    return status


def load_or_report(paths: str) -> LoadedPolicy | None:
    """The policy at ``paths``, or None after printing every problem to stderr."""
    try:
        return load_policy(paths)
    except PolicyError as exc:
        for message in exc.messages:
            print(message, file=sys.stderr)
        return None


def _explain(args: argparse.Namespace) -> int:
    loaded = load_or_report(args.policies)
    if loaded is None:
        return 1
    if args.tier is not None and args.tier not in loaded.policy.tiers:
        print(
            f"note: tier {args.tier!r} is not defined; such callers get the default tier",
            file=sys.stderr,
        )
    request = Request(
        tier=args.tier,
        model=args.model,
        route=args.route,
        account=args.account,
        cluster=args.cluster,
        cluster_size=args.cluster_size,
        shadow=args.shadow,
    )
    explanation = explain(loaded, request)
    if args.json:
        print(json.dumps(explanation.as_dict(), indent=2))
    else:
        sys.stdout.write(explanation.render())
    return 0


def _schema(args: argparse.Namespace) -> int:
    text = json.dumps(policy_json_schema(), indent=2) + "\n"
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


def _docs(args: argparse.Namespace) -> int:
    text = render_reference()
    if args.check:
        current = Path(args.output).read_text(encoding="utf-8") if args.output else ""
        if current != text:
            print(
                f"{args.output} is out of date: run gateway policy docs --output {args.output}",
                file=sys.stderr,
            )
            return 1
        return 0
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
        print(f"wrote {args.output}")
    else:
        sys.stdout.write(text)
    return 0


def _cluster_size(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("a cluster has at least 1 member")
    return value


def register(subparsers: Any) -> None:
    """Add ``policy`` and its commands to the CLI's ``add_subparsers()`` object."""
    policy = subparsers.add_parser("policy", help="check, explain and document operator policies")
    commands = policy.add_subparsers(dest="policy_command", required=True, metavar="ACTION")

    check = commands.add_parser("check", help="validate policy files or folders")
    check.add_argument("paths", nargs="+", metavar="PATH", help="a policy file or folder")
    check.set_defaults(func=_check)

    exp = commands.add_parser("explain", help="show the budgets a request gets")
    exp.add_argument("--policies", default="policies", help="policy file or folder")
    exp.add_argument("--tier", help="the caller's tier (default: the policy's default tier)")
    exp.add_argument("--model", help="the request's model")
    exp.add_argument("--route", help="the request's path, e.g. /v1/chat/completions")
    exp.add_argument("--account", help="an account id: also show the store keys")
    exp.add_argument("--cluster", help="the account's cluster id (default: the account)")
    exp.add_argument("--cluster-size", type=_cluster_size, default=1, help="cluster members")
    exp.add_argument("--shadow", action="store_true", help="apply the global shadow override")
    exp.add_argument("--json", action="store_true", help="print JSON")
    exp.set_defaults(func=_explain)

    schema = commands.add_parser("schema", help="print the policy's JSON Schema")
    schema.add_argument("--output", help="write to this file instead of stdout")
    schema.set_defaults(func=_schema)

    docs = commands.add_parser("docs", help="generate the policy reference (Markdown)")
    docs.add_argument("--output", help="write to this file (docs/policy-reference.md)")
    docs.add_argument("--check", action="store_true", help="fail when --output is out of date")
    docs.set_defaults(func=_docs)


def main(argv: Sequence[str]) -> int:
    """Run ``gateway policy ARGV...`` (``main(["check", "policies"])``)."""
    parser = argparse.ArgumentParser(prog="gateway")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["policy", *argv])
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
