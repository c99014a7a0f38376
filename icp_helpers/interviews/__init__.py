"""Step 2, interviews: rule coding, coder agreement, assisted coding, themes, redaction."""
