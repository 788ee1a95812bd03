"""``smm token``: prints a token the services accept, or explains what is missing."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from smm_shared.auth import ALL_BRANDS, Role, TokenVerifier, ensure_dev_keys
from smm_shared.auth.cli import add_token_command, token_main
from smm_shared.config import AuthSettings

pytestmark = pytest.mark.unit


async def verify(data_dir: Path, token: str) -> tuple[str, frozenset[Role], frozenset[str]]:
    verifier = TokenVerifier.from_settings(AuthSettings(jwks_file=data_dir / "keys" / "jwks.json"))
    principal = await verifier.verify(token)
    return principal.subject, principal.roles, principal.brands


async def test_token_main_prints_a_token_that_verifies(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ensure_dev_keys(tmp_path / "keys")

    code = token_main(
        ["--role", "agent", "--role", "analyst", "--brand", "acme", "--brand", "globex",
         "--sub", "alice", "--ttl-minutes", "5", "--data-dir", str(tmp_path)]
    )  # fmt: skip

    out = capsys.readouterr()
    assert code == 0
    assert out.err == ""
    token = out.out.strip()
    assert out.out == token + "\n"  # just the token, so $(smm token ...) works
    assert await verify(tmp_path, token) == (
        "alice",
        frozenset({Role.AGENT, Role.ANALYST}),
        frozenset({"acme", "globex"}),
    )


async def test_data_dir_defaults_to_the_env_variable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    ensure_dev_keys(tmp_path / "keys")
    monkeypatch.setenv("SMM_DATA_DIR", str(tmp_path))

    code = token_main(["--role", "admin", "--brand", ALL_BRANDS])

    assert code == 0
    subject, roles, brands = await verify(tmp_path, capsys.readouterr().out.strip())
    assert (subject, roles, brands) == (
        "dev-user",
        frozenset({Role.ADMIN}),
        frozenset({ALL_BRANDS}),
    )


def test_missing_keys_exit_2_with_a_hint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = token_main(["--role", "agent", "--brand", "acme", "--data-dir", str(tmp_path)])

    out = capsys.readouterr()
    assert code == 2
    assert out.out == ""
    assert "no signing key" in out.err
    assert "make run" in out.err


def test_wildcard_for_non_admin_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ensure_dev_keys(tmp_path / "keys")

    code = token_main(["--role", "agent", "--brand", ALL_BRANDS, "--data-dir", str(tmp_path)])

    out = capsys.readouterr()
    assert code == 2
    assert out.out == ""
    assert "only for admin" in out.err


def test_unknown_role_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        token_main(["--role", "superuser", "--brand", "acme"])

    assert caught.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


async def test_add_token_command_registers_a_runnable_subcommand(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ensure_dev_keys(tmp_path / "keys")
    parser = argparse.ArgumentParser(prog="smm")
    add_token_command(parser.add_subparsers(dest="command", required=True))

    args = parser.parse_args(
        ["token", "--role", "viewer", "--brand", "acme", "--data-dir", str(tmp_path)]
    )
    code = args.func(args)

    assert code == 0
    subject, roles, _ = await verify(tmp_path, capsys.readouterr().out.strip())
    assert (subject, roles) == ("dev-user", frozenset({Role.VIEWER}))
