"""Services that depend on the grid: heat, water, critical facilities and building thermal models."""
