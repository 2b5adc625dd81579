"""Reading responses from files and other systems (CSV, HL7 FHIR)."""
