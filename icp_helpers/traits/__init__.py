"""Step 3, traits: candidate traits, evidence, selection, fit score and the quarter backtest."""
