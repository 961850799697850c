"""The store on Milvus: the index folder keeps the commits, Milvus holds the rows."""
