"""The web application: a thin shell over the library, on the NHS.UK design system."""
