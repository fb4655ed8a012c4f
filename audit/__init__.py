"""Verifiable history: the Merkle tree and its proofs, signed notes, checkpoints, tiles,
proof bundles and verification."""
