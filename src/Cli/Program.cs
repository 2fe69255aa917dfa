// statedict: inspect PyTorch checkpoints and extract schemas, without Python.
return StateDict.Cli.CliApp.Run(args, Console.Out, Console.Error);
