"""Small Table and Blob storage helpers shared by the stores run types write to."""
