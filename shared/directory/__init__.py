"""The directory cache: Entra groups per managed tenant, read without calling Graph."""
