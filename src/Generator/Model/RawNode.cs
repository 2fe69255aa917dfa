using System.Collections.Generic;

namespace StateDict.Generator.Model
{
    /// <summary>The schema's keys as a trie of dotted segments, in file order (a builder's scratch structure, not a model).</summary>
    internal sealed class RawNode
    {
        private readonly Dictionary<string, RawNode> _bySegment = new Dictionary<string, RawNode>();

        private RawNode(string segment) => Segment = segment;

        public string Segment { get; }

        public SchemaTensor? Tensor { get; private set; }

        public List<RawNode> Children { get; } = new List<RawNode>();

        public bool IsTensor => Tensor != null;

        public static RawNode Build(IEnumerable<SchemaTensor> tensors)
        {
            var root = new RawNode("");
            foreach (var tensor in tensors)
            {
                var node = root;
                foreach (var segment in tensor.Key.Split('.'))
                {
                    node = node.GetOrAdd(segment);
                }
                node.Tensor = tensor;
            }
            return root;
        }

        public RawNode? Child(string segment) => _bySegment.TryGetValue(segment, out var child) ? child : null;

        /// <summary>The first tensor at or below this node (for locating diagnostics).</summary>
        public SchemaTensor FirstTensor()
        {
            var node = this;
            while (node.Tensor is null)
            {
                node = node.Children[0];
            }
            return node.Tensor;
        }

        private RawNode GetOrAdd(string segment)
        {
            if (!_bySegment.TryGetValue(segment, out var child))
            {
                child = new RawNode(segment);
                _bySegment.Add(segment, child);
                Children.Add(child);
            }
            return child;
        }
    }
}
