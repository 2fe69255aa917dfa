// Runs a small GPT that PyTorch trained (model/: config.json + two bf16 safetensors shards) in C#, decodes greedily
// from PyTorch's prompt, and checks that we pick PyTorch's tokens from PyTorch's logits. See TinyGptModel.cs.
using TinyGpt;

string folder = args.Length > 0 ? args[0] : Path.Combine(AppContext.BaseDirectory, "model");
TinyGptResult r = TinyGptComparison.Run(folder);

Console.WriteLine("A char-level GPT trained by PyTorch on Genesis (KJV), run in C#. Greedy continuation of");
Console.WriteLine($"  prompt    \"{r.Prompt}\"");
Console.WriteLine($"  ours      \"{r.Ours}\"");
Console.WriteLine($"  PyTorch's \"{r.PyTorchs}\"");
Console.WriteLine($"  max |logit diff|   {r.MaxLogitDiff:G3} (tolerance {TinyGptResult.Tolerance:G})");
Console.WriteLine($"  smallest top-2 gap {r.MinTop2Margin:G3} (PyTorch's logits)");

if (r.Matches)
{
    Console.WriteLine($"OK: the same {r.OurTokens.Length} tokens as PyTorch, the same logits to within the tolerance.");
    return 0;
}
int first = r.OurTokens.Zip(r.PyTorchTokens).TakeWhile(p => p.First == p.Second).Count();
if (first < r.PyTorchTokens.Length)
{
    Console.WriteLine($"FAIL: our token {first} differs from PyTorch's.");
}
if (r.MaxLogitDiff > TinyGptResult.Tolerance)
{
    Console.WriteLine($"FAIL: a logit differs from PyTorch's by {r.MaxLogitDiff:G3}, more than {TinyGptResult.Tolerance:G}.");
}
return 1;
