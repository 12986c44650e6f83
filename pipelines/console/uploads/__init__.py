"""The submitter's page: upload, the front door's verdict, their history, letters and template."""
