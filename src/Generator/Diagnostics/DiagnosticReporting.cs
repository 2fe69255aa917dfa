using System.Collections.Generic;
using Microsoft.CodeAnalysis;
using StateDict.Generator.Model;

namespace StateDict.Generator.Diagnostics
{
    /// <summary>Turns collected <see cref="DiagnosticInfo"/>s into compiler diagnostics at the output stage.</summary>
    internal static class DiagnosticReporting
    {
        /// <summary>Reports each distinct diagnostic once (a file bound by several classes has its problems found by each).</summary>
        public static void ReportOnce(SourceProductionContext context, IEnumerable<EquatableArray<DiagnosticInfo>> all)
        {
            var reported = new HashSet<DiagnosticInfo>();
            foreach (var diagnostics in all)
            {
                foreach (var info in diagnostics)
                {
                    if (reported.Add(info))
                    {
                        context.ReportDiagnostic(Diagnostic.Create(Descriptors.ById[info.Id], info.Location?.ToLocation(), Arguments(info)));
                    }
                }
            }
        }

        private static object[] Arguments(DiagnosticInfo info)
        {
            var args = new object[info.Arguments.Count];
            for (int i = 0; i < args.Length; i++)
            {
                args[i] = info.Arguments[i];
            }
            return args;
        }
    }
}
