"""What every call cost: the SQLite ledger, the price table and the savings report."""
