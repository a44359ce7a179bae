"""Landing -> bronze: whole-delivery checks against the manifest, pseudonyms at the door, lineage columns."""
