/// Python frame names as pprof-reading tools expect them: qualified by their module.
///
/// py-spy names a frame by its function alone (`compile`, `SubPattern.getwidth`) with the file beside it, so
/// `re.compile` and a user's own `compile` would be one function, and nothing says the frame is the standard
/// library's regex engine. A frame whose file is a `.py` file is named `module.function`, the module taken from
/// the path: after the last `site-packages/` or `dist-packages/`, else after `lib/pythonX.Y/`, else the path as
/// py-spy shortened it when relative (`re/_parser.py`), else (a user's script by absolute path) its file name;
/// `.py` and a trailing `/__init__` dropped, `/` read as `.`. So `re/_parser.py` + `_parse` → `re._parser._parse`,
/// `re/__init__.py` + `compile` → `re.compile`, `/work/app/bottlenecks.py` + `run` → `bottlenecks.run`.
enum PythonNames {
    static func qualified(_ name: String, file: String) -> String {
        guard file.hasSuffix(".py"), let module = module(of: file) else { return name }
        return module + "." + name
    }

    static func module(of file: String) -> String? {
        var path = Substring(file)
        if let r = path.ranges(of: "site-packages/").last ?? path.ranges(of: "dist-packages/").last {
            path = path[r.upperBound...]
        } else if let r = path.ranges(of: /lib\/python\d+(\.\d+)?\//).last {
            path = path[r.upperBound...]
        } else if path.hasPrefix("/") {
            path = path[(path.lastIndex(of: "/").map { path.index(after: $0) } ?? path.startIndex)...]
        }
        var module = String(path.dropLast(3))
        if module.hasSuffix("/__init__") { module.removeLast("/__init__".count) }
        if module == "__init__" || module.isEmpty { return nil }
        return module.replacing("/", with: ".")
    }
}
