"""creditlake: an enterprise-credit lakehouse for a city market regulator."""
