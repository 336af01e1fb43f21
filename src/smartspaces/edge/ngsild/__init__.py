"""NGSI-LD and FIWARE Smart Data Models at the edge: schemas, normal forms, mapping."""
