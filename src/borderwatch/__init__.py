"""BorderWatch: scam-centre crackdown data pipeline."""
