"""Verifiable history: the Merkle tree and its proofs, signed notes, checkpoints and verification."""
