"""Step 4, the profile: the ICP card, personas and scored exports."""
