namespace StateDict.Pickle;

/// <summary>
/// The Python 2 names a protocol 0-2 pickle may use, mapped to what Python 3's unpickler imports instead
/// (<c>fix_imports</c>, CPython's Lib/_compat_pickle.py: NAME_MAPPING first, then IMPORT_MAPPING). Python 3's own
/// pickler writes these names too: <c>subprocess.Popen</c> pickles as <c>commands Popen</c> at protocol 2, the
/// torch.save default, so a reader that did not map them would report a process launcher as an unknown class.
/// </summary>
internal static class Python2Names
{
    private static readonly Dictionary<string, string> Modules = new(StringComparer.Ordinal)
    {
        ["__builtin__"] = "builtins", ["copy_reg"] = "copyreg", ["Queue"] = "queue", ["SocketServer"] = "socketserver",
        ["ConfigParser"] = "configparser", ["repr"] = "reprlib", ["tkFileDialog"] = "tkinter.filedialog",
        ["tkSimpleDialog"] = "tkinter.simpledialog", ["tkColorChooser"] = "tkinter.colorchooser",
        ["tkCommonDialog"] = "tkinter.commondialog", ["Dialog"] = "tkinter.dialog", ["Tkdnd"] = "tkinter.dnd",
        ["tkFont"] = "tkinter.font", ["tkMessageBox"] = "tkinter.messagebox", ["ScrolledText"] = "tkinter.scrolledtext",
        ["Tkconstants"] = "tkinter.constants", ["Tix"] = "tkinter.tix", ["ttk"] = "tkinter.ttk", ["Tkinter"] = "tkinter",
        ["markupbase"] = "_markupbase", ["_winreg"] = "winreg", ["thread"] = "_thread", ["dummy_thread"] = "_dummy_thread",
        ["dbhash"] = "dbm.bsd", ["dumbdbm"] = "dbm.dumb", ["dbm"] = "dbm.ndbm", ["gdbm"] = "dbm.gnu",
        ["xmlrpclib"] = "xmlrpc.client", ["SimpleXMLRPCServer"] = "xmlrpc.server", ["httplib"] = "http.client",
        ["htmlentitydefs"] = "html.entities", ["HTMLParser"] = "html.parser", ["Cookie"] = "http.cookies",
        ["cookielib"] = "http.cookiejar", ["BaseHTTPServer"] = "http.server", ["test.test_support"] = "test.support",
        ["commands"] = "subprocess", ["urlparse"] = "urllib.parse", ["robotparser"] = "urllib.robotparser",
        ["urllib2"] = "urllib.request", ["anydbm"] = "dbm", ["_abcoll"] = "collections.abc", ["cPickle"] = "pickle",
        ["_elementtree"] = "xml.etree.ElementTree", ["FileDialog"] = "tkinter.filedialog",
        ["SimpleDialog"] = "tkinter.simpledialog", ["DocXMLRPCServer"] = "xmlrpc.server",
        ["SimpleHTTPServer"] = "http.server", ["CGIHTTPServer"] = "http.server", ["UserDict"] = "collections",
        ["UserList"] = "collections", ["UserString"] = "collections", ["whichdb"] = "dbm", ["StringIO"] = "io",
        ["cStringIO"] = "io",
    };

    private static readonly Dictionary<(string, string), (string Module, string Name)> Names = new()
    {
        [("__builtin__", "xrange")] = ("builtins", "range"), [("__builtin__", "reduce")] = ("functools", "reduce"),
        [("__builtin__", "intern")] = ("sys", "intern"), [("__builtin__", "unichr")] = ("builtins", "chr"),
        [("__builtin__", "unicode")] = ("builtins", "str"), [("__builtin__", "long")] = ("builtins", "int"),
        [("__builtin__", "basestring")] = ("builtins", "str"),
        [("itertools", "izip")] = ("builtins", "zip"), [("itertools", "imap")] = ("builtins", "map"),
        [("itertools", "ifilter")] = ("builtins", "filter"), [("itertools", "ifilterfalse")] = ("itertools", "filterfalse"),
        [("itertools", "izip_longest")] = ("itertools", "zip_longest"),
        [("UserDict", "IterableUserDict")] = ("collections", "UserDict"), [("UserDict", "UserDict")] = ("collections", "UserDict"),
        [("UserList", "UserList")] = ("collections", "UserList"), [("UserString", "UserString")] = ("collections", "UserString"),
        [("whichdb", "whichdb")] = ("dbm", "whichdb"), [("_socket", "fromfd")] = ("socket", "fromfd"),
        [("socket", "_socketobject")] = ("socket", "SocketType"),
        [("_multiprocessing", "Connection")] = ("multiprocessing.connection", "Connection"),
        [("multiprocessing.process", "Process")] = ("multiprocessing.context", "Process"),
        [("multiprocessing.forking", "Popen")] = ("multiprocessing.popen_fork", "Popen"),
        [("multiprocessing", "AuthenticationError")] = ("multiprocessing.context", "AuthenticationError"),
        [("multiprocessing", "BufferTooShort")] = ("multiprocessing.context", "BufferTooShort"),
        [("multiprocessing", "ProcessError")] = ("multiprocessing.context", "ProcessError"),
        [("multiprocessing", "TimeoutError")] = ("multiprocessing.context", "TimeoutError"),
        [("urllib", "ContentTooShortError")] = ("urllib.error", "ContentTooShortError"),
        [("urllib", "getproxies")] = ("urllib.request", "getproxies"),
        [("urllib", "pathname2url")] = ("urllib.request", "pathname2url"),
        [("urllib", "quote_plus")] = ("urllib.parse", "quote_plus"), [("urllib", "quote")] = ("urllib.parse", "quote"),
        [("urllib", "unquote_plus")] = ("urllib.parse", "unquote_plus"), [("urllib", "unquote")] = ("urllib.parse", "unquote"),
        [("urllib", "url2pathname")] = ("urllib.request", "url2pathname"),
        [("urllib", "urlcleanup")] = ("urllib.request", "urlcleanup"),
        [("urllib", "urlencode")] = ("urllib.parse", "urlencode"), [("urllib", "urlopen")] = ("urllib.request", "urlopen"),
        [("urllib", "urlretrieve")] = ("urllib.request", "urlretrieve"),
        [("urllib2", "HTTPError")] = ("urllib.error", "HTTPError"), [("urllib2", "URLError")] = ("urllib.error", "URLError"),
    };

    /// <summary>The module and name Python 3 would import for a pickled <paramref name="module"/>.<paramref name="name"/>.</summary>
    /// <remarks>
    /// CPython maps only when the pickle's protocol is below 3; this maps at every protocol, as StateDict always has
    /// for <c>__builtin__</c>. NAME_MAPPING's 48 <c>exceptions.*</c> entries are left out: those stay unknown, hence refused.
    /// </remarks>
    public static (string Module, string Name) Canonical(string module, string name) =>
        Names.TryGetValue((module, name), out var mapped) ? mapped
        : Modules.TryGetValue(module, out var renamed) ? (renamed, name)
        : (module, name);
}
