-- What each schema change accounts for in verify's inventory (its names
-- and patterns), recorded by the schema stage when it makes the change, so
-- verify reads it instead of re-parsing the dumped statement. NULL on rows
-- an older version wrote: verify derives those from `original` as before.
ALTER TABLE supamigrate.schema_changes ADD COLUMN affects text[];
