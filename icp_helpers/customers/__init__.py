"""Step 1, best customers: account features, column roles, value rule and best-vs-rest, commonalities, customer groups."""
