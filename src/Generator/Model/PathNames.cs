using System;
using System.Collections.Generic;

namespace StateDict.Generator.Model
{
    /// <summary>Path arithmetic on strings only (the generator never touches the file system): '/' and '\' alike.</summary>
    internal static class PathNames
    {
        public static bool IsRooted(string path) => path.StartsWith("/", StringComparison.Ordinal) || path.StartsWith("\\", StringComparison.Ordinal) || (path.Length > 1 && path[1] == ':');

        /// <summary>The last segment, ignoring trailing separators: <c>model</c> for <c>models/model/</c>.</summary>
        public static string FileName(string path)
        {
            string trimmed = path.TrimEnd('/', '\\');
            int slash = Math.Max(trimmed.LastIndexOf('/'), trimmed.LastIndexOf('\\'));
            return trimmed.Substring(slash + 1);
        }

        /// <summary>The attribute's path against the project directory (unless rooted), normalised.</summary>
        public static string InProject(string path, string projectDirectory) =>
            Normalize(IsRooted(path) ? path : projectDirectory + "/" + path);

        /// <summary>Separators made '/', "." and ".." segments and empty segments removed.</summary>
        public static string Normalize(string path)
        {
            var parts = new List<string>();
            foreach (var part in path.Replace('\\', '/').Split('/'))
            {
                if (part == "..")
                {
                    if (parts.Count > 0)
                    {
                        parts.RemoveAt(parts.Count - 1);
                    }
                }
                else if (part != "." && part.Length > 0)
                {
                    parts.Add(part);
                }
            }
            return string.Join("/", parts);
        }

        /// <summary>True when <paramref name="path"/> is <paramref name="tail"/> or ends with "/" + it (both normalised, any letter case).</summary>
        public static bool EndsWith(string path, string tail) =>
            string.Equals(path, tail, StringComparison.OrdinalIgnoreCase)
            || (path.Length > tail.Length && path[path.Length - tail.Length - 1] == '/' && path.EndsWith(tail, StringComparison.OrdinalIgnoreCase));
    }
}
