"""Synthetic landing zone with planted truth: deterministic deliveries that follow docs/landing-contract.md."""

from creditlake.generate.landing_zone import generate_landing

__all__ = ["generate_landing"]
