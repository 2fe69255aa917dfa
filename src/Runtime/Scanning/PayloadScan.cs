using StateDict.Containers;
using StateDict.Pickle;
using StateDict.Safety;

namespace StateDict;

/// <summary>
/// Scans the bytes each <c>torch.storage._load_from_bytes</c> call of a pickle would hand to <c>torch.load</c>, as a
/// file of its own: every call the VM saw, reachable from the result or not, its argument reduced to bytes by
/// <see cref="PayloadBytes"/> (the reduction the reader uses too). A call whose argument cannot be reduced is unsafe:
/// Python would unpickle bytes nobody checked. The same argument object (shared through the memo) is scanned once.
/// </summary>
internal sealed class PayloadScan(ScanRun run, CheckpointLimits limits)
{
    public void Run(PickleResult result, string part, List<GlobalFinding> findings, int depth)
    {
        if (result.PayloadCalls.Count == 0)
        {
            return;
        }
        if (depth >= EmbeddedPayload.MaxDepth)
        {
            throw new CheckpointCorruptException(run.FilePath, $"{part}: torch.save payloads nested more than {EmbeddedPayload.MaxDepth} deep");
        }
        var scanned = new HashSet<object>(ReferenceEqualityComparer.Instance);
        int index = 0;
        foreach (var call in result.PayloadCalls)
        {
            if (call.Args.Items is not [var argument] || call.Kwargs is not null)
            {
                findings.Add(Unreduced(call, $"it is called with ({string.Join(", ", call.Args.Items.Select(PyValue.TypeName))}), not one bytes argument"));
                continue;
            }
            if (!scanned.Add(argument))
            {
                continue;
            }
            var bytes = PayloadBytes.Reduce(argument, limits.MaxPickleBytes, out string why);
            if (bytes is null)
            {
                findings.Add(Unreduced(call, why));
                continue;
            }
            Payload(bytes, $"{part} → _load_from_bytes payload {index++} (byte {call.Offset}): ", depth);
        }
    }

    private static GlobalFinding Unreduced(PyCall call, string why) =>
        new(Torch.AllowList.LoadFromBytes, call.Offset, GlobalRisk.CodeExecution,
            $"its argument cannot be reduced to bytes without running Python ({why}); Python would unpickle whatever it makes, unscanned");

    private void Payload(byte[] payload, string part, int depth)
    {
        if (payload.AsSpan().StartsWith("PK\x03\x04"u8))
        {
            string temporary = Path.Combine(Path.GetTempPath(), $"statedict-scan-{Guid.NewGuid():N}.pt");
            try
            {
                File.WriteAllBytes(temporary, payload);
                using var nested = new CheckpointFile(temporary);
                run.File(nested, part, depth + 1);
            }
            finally
            {
                File.Delete(temporary);
            }
        }
        else
        {
            // torch.load of anything else unpickles it as a legacy file: five pickles, each with the full unpickler.
            run.Pickles(payload, part + "legacy pickle", 5, CheckpointFormat.Pickle, depth + 1);
        }
    }
}
