"""Reading whole folders: the resumable local engine and the rows it writes."""
