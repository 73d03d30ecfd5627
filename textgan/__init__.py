"""textgan: character-level text GANs trained with WGAN-GP."""

__version__ = "0.1.0"
