"""``smm token``: print a dev access token signed with the local stack's key."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Final

from smm_shared.auth.keys import SIGNING_KEY_FILE, load_signing_key
from smm_shared.auth.tokens import ALL_BRANDS, Role, issue_token
from smm_shared.config import AuthSettings

KEYS_SUBDIR: Final = "keys"
DEFAULT_DATA_DIR: Final = Path(".data")
# The defaults the services verify against, so a token works with an unconfigured stack.
_DEFAULT_ISSUER: Final[str] = AuthSettings.model_fields["issuer"].default
_DEFAULT_AUDIENCE: Final[str] = AuthSettings.model_fields["audience"].default


def default_data_dir() -> Path:
    """``$SMM_DATA_DIR`` if set, else ``./.data``."""
    return Path(os.environ.get("SMM_DATA_DIR") or DEFAULT_DATA_DIR)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def configure_token_parser(parser: argparse.ArgumentParser) -> None:
    """Add the ``smm token`` options to ``parser`` and make it run run_token."""
    parser.add_argument(
        "--role",
        dest="roles",
        action="append",
        required=True,
        choices=[role.value for role in Role],
        help="a role of the token; repeat for several",
    )
    parser.add_argument(
        "--brand",
        dest="brands",
        action="append",
        required=True,
        help=f"a brand id the token may see; repeat for several; {ALL_BRANDS!r} (admin only)"
        " for all",
    )
    parser.add_argument("--sub", default="dev-user", help="subject (default: dev-user)")
    parser.add_argument("--name", help="display name claim")
    parser.add_argument("--email", help="email claim")
    parser.add_argument(
        "--ttl-minutes", type=_positive_int, default=60, help="lifetime (default: 60)"
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="the stack's data directory (default: $SMM_DATA_DIR or ./.data)",
    )
    parser.add_argument(
        "--issuer",
        default=os.environ.get("SMM_AUTH__ISSUER") or _DEFAULT_ISSUER,
        help="iss claim (default: $SMM_AUTH__ISSUER or %(default)s)",
    )
    parser.add_argument(
        "--audience",
        default=os.environ.get("SMM_AUTH__AUDIENCE") or _DEFAULT_AUDIENCE,
        help="aud claim (default: $SMM_AUTH__AUDIENCE or %(default)s)",
    )
    parser.set_defaults(func=run_token)


def add_token_command(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the ``token`` subcommand on the ``smm`` command's subparsers."""
    parser = subparsers.add_parser(
        "token",
        help="print a dev access token",
        description="Print an access token signed with the local stack's key (stdout only).",
    )
    configure_token_parser(parser)


def run_token(args: argparse.Namespace) -> int:
    """Issue the token the parsed arguments describe and print it; the exit code."""
    data_dir: Path = args.data_dir or default_data_dir()
    keys_dir = data_dir / KEYS_SUBDIR
    if not (keys_dir / SIGNING_KEY_FILE).is_file():
        print(
            f"smm token: no signing key at {keys_dir / SIGNING_KEY_FILE};"
            " start the stack with `make run` first (or pass --data-dir)",
            file=sys.stderr,
        )
        return 2
    try:
        key = load_signing_key(keys_dir)
        token = issue_token(
            key=key,
            subject=args.sub,
            roles=args.roles,
            brands=args.brands,
            ttl=timedelta(minutes=args.ttl_minutes),
            issuer=args.issuer,
            audience=args.audience,
            name=args.name,
            email=args.email,
        )
    except (OSError, ValueError) as exc:
        # The messages name files and rules, never key material.
        print(f"smm token: {exc}", file=sys.stderr)
        return 2
    print(token)
    return 0


def token_main(argv: Sequence[str] | None = None) -> int:
    """Run ``smm token`` standalone: parse ``argv`` and return the exit code."""
    parser = argparse.ArgumentParser(
        prog="smm token", description="Print an access token signed with the local stack's key."
    )
    configure_token_parser(parser)
    args = parser.parse_args(argv)
    return run_token(args)
