"""Documents -> passages -> index -> ranked answers. The index knows vectors; passages know text."""
