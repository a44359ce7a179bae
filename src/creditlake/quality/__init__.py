"""Quality: Great Expectations suites on silver, the quarantine, and the accounting of every landed record."""
