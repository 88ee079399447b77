"""artvid: artistic style transfer for videos (Ruder, Dosovitskiy and Brox, 2016)."""

__version__ = "0.1.0"
