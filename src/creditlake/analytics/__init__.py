"""Read-side services over the serving store: the panoramic profile and the lost-contact list."""
