"""The tamper-evident ledger: an append-only RFC 9162 Merkle log of data-sharing acts, with signed checkpoints.

Pipeline stages log what they did with `append_event(kind, record)`; `write_checkpoint()` signs the tree
head; `verify_ledger()` checks everything and names the first bad position; `prove(event_id)` gives a
third party an inclusion proof that `merkle.py` (standard library only) verifies. See docs/ledger.md.
"""

from creditlake.ledger.checkpoint import public_key_pem, write_checkpoint
from creditlake.ledger.log import KINDS, Entry, append_event, append_events, event_ids, read_entries
from creditlake.ledger.verify import VerifyResult, consistency, prove, verify_ledger

__all__ = ["KINDS", "Entry", "VerifyResult", "append_event", "append_events", "consistency", "event_ids",
           "prove", "public_key_pem", "read_entries", "verify_ledger", "write_checkpoint"]
