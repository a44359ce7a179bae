"""GB 32100 credit codes: real published codes pass, any one-character change fails."""

import random

import pytest

from creditlake.codes import USCC_ALPHABET, is_valid_uscc, org_code_check, uscc_check
from creditlake.generate.people import make_uscc

REAL_CODES = ["91350100M000100Y43", "91110000600037341L", "91440300708461136T", "9111000071093123XX"]


@pytest.mark.parametrize("code", REAL_CODES)
def test_published_codes_are_valid(code):
    assert is_valid_uscc(code)


@pytest.mark.parametrize("code", REAL_CODES)
def test_any_changed_check_character_is_invalid(code):
    for wrong in USCC_ALPHABET:
        if wrong != code[-1]:
            assert not is_valid_uscc(code[:-1] + wrong)


@pytest.mark.parametrize("bad", [None, "", "91350100M000100Y4", "91350100M000100Y43X", "9135010OM000100Y43"])
def test_malformed_codes_are_invalid(bad):
    assert not is_valid_uscc(bad)


def test_org_code_check_matches_gb11714_example():
    # GB 11714 example: D2143569 -> check character X.
    assert org_code_check("D2143569") == "X"


def test_generated_codes_are_valid():
    rng = random.Random(3)
    codes = [make_uscc(rng, "520102") for _ in range(500)]
    assert all(is_valid_uscc(c) for c in codes)
    assert all(uscc_check(c[:17]) == c[17] for c in codes)
