"""`creditlake ledger …`: verify, prove, checkpoint, export-key, show, consistency.

A Typer sub-app; the main CLI registers it with `app.add_typer(ledger.cli.app, name="ledger")`. User errors
end in one red line and exit code 2 (as in creditlake.cli); a ledger that fails verification exits 1.
"""

from __future__ import annotations

import functools
import json
import logging
from collections import deque
from pathlib import Path
from typing import Annotated, Optional

import click
import typer
from rich.console import Console
from rich.markup import escape

from creditlake.settings import get_settings

app = typer.Typer(
    help="Tamper-evident ledger (防篡改审计账本): an RFC 9162 Merkle log of ingestions, data sharing, "
         "publications and profile look-ups, with signed checkpoints.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
console = Console(stderr=True, soft_wrap=True)
out = Console(soft_wrap=True)

# The same user errors as creditlake.cli.USER_ERRORS (not imported: that module imports this one).
USER_ERRORS: tuple[type[BaseException], ...] = (ValueError, FileNotFoundError, KeyError, RuntimeError)


def _user_errors(fn):
    """Turn a user error into one red line and exit code 2, also when this app runs on its own."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except (typer.Exit, typer.Abort, click.exceptions.Exit, click.exceptions.Abort):
            raise  # exit codes and aborts, not errors (they subclass RuntimeError)
        except USER_ERRORS as exc:
            log = logging.getLogger("creditlake.ledger")
            if log.hasHandlers():  # the main CLI's log file; never Python's last-resort stderr handler
                log.exception("ledger command failed")
            message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
            console.print(f"[bold red]error:[/] {escape(str(message))}")
            raise typer.Exit(2) from None

    return wrapper


def _dump(doc: dict) -> None:
    typer.echo(json.dumps(doc, ensure_ascii=False, indent=2))


@app.command()
@_user_errors
def verify(
    checkpoint: Annotated[Optional[Path], typer.Option(
        "--checkpoint", help="Also check against this checkpoint kept outside the ledger (JSON or signed note).",
        dir_okay=False)] = None,
    public_key: Annotated[Optional[Path], typer.Option(
        "--public-key", help="Trust this Ed25519 public key (PEM) instead of keys/ledger_ed25519.pub.",
        dir_okay=False)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Recompute every leaf and the root, check every signed checkpoint; exit 1 naming the first bad position."""
    from creditlake.ledger.verify import verify_ledger

    for path in (checkpoint, public_key):
        if path is not None and not path.is_file():
            raise FileNotFoundError(f"no such file: {path}")
    result = verify_ledger(get_settings(), checkpoint, public_key.read_bytes() if public_key else None)
    if as_json:
        _dump(result.to_dict())
    if not result.ok:
        console.print(f"[bold red]✗ 账本校验失败 {escape(result.summary())}[/]")
        raise typer.Exit(1)
    if not as_json:
        out.print(f"[green]✓[/] {result.summary()}")


@app.command("prove")
@_user_errors
def prove_command(
    event_id: Annotated[str, typer.Argument(help="Event id of the entry to prove (see `show`).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the proof document (for merkle.py).")] = False,
) -> None:
    """Print an inclusion proof of one event in the latest signed checkpoint (verifiable with merkle.py alone)."""
    from creditlake.ledger.verify import prove

    proof = prove(event_id, get_settings())
    if as_json:
        _dump(proof)
        return
    out.print(f"event      {proof['event_id']} ({proof['kind']})")
    out.print(f"leaf       index {proof['leaf_index']} of a tree of {proof['tree_size']} entries")
    out.print(f"leaf hash  {proof['leaf_hash']}  = SHA-256(0x00 || entry)")
    out.print("audit path (leaf's sibling first):")
    for i, h in enumerate(proof["audit_path"]):
        out.print(f"  {i:>2}  {h}")
    out.print(f"root hash  {proof['root_hash']}  (signed checkpoint {proof['tree_size']})")
    out.print("[dim]check it: creditlake ledger prove ID --json > proof.json && "
              "python src/creditlake/ledger/merkle.py inclusion proof.json[/]")


@app.command()
@_user_errors
def consistency(
    old_size: Annotated[int, typer.Argument(min=0, help="Size of the older tree.")],
    new_size: Annotated[Optional[int], typer.Argument(min=0, help="Size of the newer tree; default: now.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the proof document (for merkle.py).")] = False,
) -> None:
    """Print a consistency proof: the log at NEW_SIZE only appended to the log at OLD_SIZE."""
    from creditlake.ledger.verify import consistency as make_proof

    doc = make_proof(old_size, new_size, get_settings())
    if as_json:
        _dump(doc)
        return
    out.print(f"old  {doc['old_size']} entries, root {doc['old_root']}")
    out.print(f"new  {doc['new_size']} entries, root {doc['new_root']}")
    for i, h in enumerate(doc["proof"]):
        out.print(f"  {i:>2}  {h}")


@app.command()
@_user_errors
def checkpoint() -> None:
    """Sign the current tree head (size + root) into ledger/checkpoints/<size>.json."""
    from creditlake.ledger.checkpoint import read_checkpoint_file, write_checkpoint

    path = write_checkpoint(get_settings())
    doc = read_checkpoint_file(path)
    out.print(f"[green]✓[/] checkpoint 检查点 {doc['tree_size']} entries, root {doc['root_hash']}: {path}")


@app.command("export-key")
@_user_errors
def export_key(
    vkey: Annotated[bool, typer.Option(
        "--vkey", help="Print the signed-note verifier key (name+id+key) instead of PEM.")] = False,
) -> None:
    """Print the public key that verifies checkpoints (give it to auditors; the private key never leaves keys/)."""
    from creditlake.ledger.checkpoint import load_public_key, public_key_pem, verifier_key

    settings = get_settings()
    pem = public_key_pem(settings)
    typer.echo(verifier_key(load_public_key(pem)) if vkey else pem.decode().rstrip("\n"))


@app.command()
@_user_errors
def show(
    kind: Annotated[Optional[str], typer.Option(help="Only events of this kind.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="Show the latest N matching events.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print entries as JSON Lines.")] = False,
) -> None:
    """Show the latest ledger entries (账本条目)."""
    from creditlake.ledger.log import KINDS, iter_entries

    if kind is not None and kind not in KINDS:
        raise ValueError(f"unknown event kind {kind!r}; known: {', '.join(KINDS)}")
    latest = deque((e for e in iter_entries(get_settings()) if kind is None or e.kind == kind), maxlen=limit)
    if as_json:
        for e in latest:
            typer.echo(e.line.decode("utf-8"))
        return
    for e in latest:  # one line per entry: greppable, and no table squeezed into 80 columns
        record = escape(json.dumps(e.record, ensure_ascii=False, sort_keys=True))
        out.print(f"{e.index:>7}  [dim]{e.time}[/]  [bold]{e.kind:<17}[/]  {e.event_id}  {record}")
    if not latest:
        console.print("no entries" + (f" of kind {kind}" if kind else ""))
