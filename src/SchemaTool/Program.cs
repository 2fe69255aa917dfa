using StateDict;

// Run by the StateDictCheckpoint MSBuild item: StateDict.SchemaTool CHECKPOINT OUTPUT.
// Errors are printed in MSBuild's canonical format so the build fails with the message, naming the file.
if (args.Length != 2)
{
    Console.Error.WriteLine("StateDict.SchemaTool: error SD1000: usage: StateDict.SchemaTool CHECKPOINT SCHEMA_OUTPUT");
    return 2;
}
string checkpointPath = args[0];
string outputPath = args[1];
try
{
    using var checkpoint = Checkpoint.Open(checkpointPath);
    string json = SchemaJson.Write(checkpoint);
    Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(outputPath))!);
    string temporary = outputPath + ".tmp";
    File.WriteAllText(temporary, json);
    File.Move(temporary, outputPath, overwrite: true);
    return 0;
}
catch (Exception e) when (e is CheckpointException or IOException or UnauthorizedAccessException or KeyNotFoundException)
{
    string problem = e is CheckpointException c ? c.Problem : e.Message;
    Console.Error.WriteLine($"{checkpointPath}: error SD1002: StateDict cannot read this checkpoint to extract its schema: {problem}");
    return 1;
}
