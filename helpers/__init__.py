"""The small package every notebook of the series shares: what a notebook taught, kept for the ones after it, and
the plumbing no lesson is about. ``helpers/README.md`` lists the modules and which notebook teaches what."""

__version__ = "0.1.0"
