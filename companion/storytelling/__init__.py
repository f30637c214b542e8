"""Stories: the file format, the storyteller, co-creation and safety."""
