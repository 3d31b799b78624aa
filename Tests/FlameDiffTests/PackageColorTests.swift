import FlameDiff
import Testing

@Suite struct PackageColorTests {
    static let cases: [(name: String, package: String)] = [
        // Go
        ("github.com/x/y/pkg.Func", "github.com/x/y/pkg"),
        ("github.com/x/y/pkg.(*T).m", "github.com/x/y/pkg"),
        ("net/http.(*conn).serve", "net/http"),
        ("runtime.mallocgc", "runtime"),
        ("sync.(*Mutex).Lock", "sync"),
        ("fmt.Println", "fmt"),
        ("main.main.func1", "main"),
        ("github.com/x/y/pkg.Map[go.shape.int]", "github.com/x/y/pkg"),
        // Java
        ("com.foo.Bar.method", "com.foo"),
        ("java.util.concurrent.ThreadPoolExecutor.runWorker", "java.util.concurrent"),
        ("com.foo.Bar$$Lambda$1.run", "com.foo"),
        ("com.foo.Bar.<init>", "com.foo"),
        ("java/lang/Thread.run", "java.lang"),
        // Python
        ("module.py:func", "module"),
        ("/usr/lib/python3.11/json/decoder.py:decode", "/usr/lib/python3.11/json/decoder"),
        ("module.func", "module"),
        ("json.decoder.JSONDecoder.decode", "json.decoder"),
        // Ruby
        ("Foo::Bar#m", "Foo"),
        ("Foo#m", "Foo"),
        ("block (2 levels) in ActiveRecord::Relation#load", "ActiveRecord"),
        ("app/models/user.rb:12 - User#save", "app/models/user"),
        // Node
        ("file.js:func", "file"),
        ("./src/server.ts:handle:10", "src/server"),
        ("./node_modules/express/lib/router/index.js:handle:284", "express"),
        ("/app/node_modules/@grpc/grpc-js/build/src/call.js:write", "@grpc/grpc-js"),
        // .NET
        ("System.Collections.Generic.List`1.Add", "System.Collections.Generic"),
        ("MyApp.Program.Main", "MyApp"),
        ("Microsoft.AspNetCore.Server.Kestrel.Core.Internal.Http.HttpProtocol.ProcessRequests(!!0)", "Microsoft.AspNetCore.Server.Kestrel.Core.Internal.Http"),
        // Rust
        ("tokio::runtime::task::harness::poll", "tokio"),
        ("<alloc::vec::Vec<T> as core::ops::drop::Drop>::drop", "alloc"),
        ("core::ptr::drop_in_place<foo::Bar>", "core"),
        // C++
        ("ns::Class::fn", "ns"),
        ("std::vector<int, std::allocator<int> >::push_back(int const&)", "std"),
        ("void ns::Class::fn(int)", "ns"),
        // Others
        ("malloc", "malloc"),
        ("0x7f3a2b", ""),
        ("[unknown]", ""),
        ("", ""),
    ]

    @Test func packageNamesPerLanguage() {
        for (name, package) in Self.cases {
            #expect(PackageColor.packageName(of: name) == package, "\(name)")
        }
    }

    @Test func fnv1aKnownValues() {
        // Reference values of 32-bit FNV-1a.
        #expect(PackageColor.fnv1a32("") == 0x811c_9dc5)
        #expect(PackageColor.fnv1a32("a") == 0xe40c_292c)
        #expect(PackageColor.fnv1a32("foobar") == 0xbf9c_f968)
    }

    @Test func sameFunctionSameColourAndPackagesMostlyDiffer() {
        // One package, one colour, whichever function of it.
        #expect(PackageColor.color(of: "runtime.mallocgc") == PackageColor.color(of: "runtime.scanobject"))
        #expect(PackageColor.color(of: "com.foo.Bar.a") == PackageColor.color(of: "com.foo.Baz.b"))
        // 48 distinct packages spread over the palette: most colours are used.
        let packages = (0 ..< 48).map { "github.com/acme/svc\($0)/pkg.F" }
        let colours = Set(packages.map { PackageColor.color(of: $0).description })
        #expect(colours.count >= PackageColor.palette.count * 2 / 3)
        #expect(PackageColor.color(of: "runtime.mallocgc").description.hasPrefix("rgb("))
    }

    @Test func diffColourScale() {
        #expect(DiffColor.color(change: -100) == RGB(0, 170, 0))
        #expect(DiffColor.color(change: 0) == RGB(148, 142, 142))
        #expect(DiffColor.color(change: 100) == RGB(200, 0, 0))
        #expect(DiffColor.color(change: 500) == RGB(200, 0, 0))
        #expect(DiffColor.color(change: 50) == RGB(174, 71, 71))
        #expect(DiffColor.color(change: -50) == RGB(74, 156, 71))
        #expect(DiffColor.change(left: 25, leftTotal: 100, right: 75, rightTotal: 200) == 50)
        #expect(DiffColor.change(left: 0, leftTotal: 100, right: 1, rightTotal: 200) == 100)
        #expect(DiffColor.change(left: 5, leftTotal: 100, right: 0, rightTotal: 200) == -100)
        #expect(DiffColor.change(left: 0, leftTotal: 0, right: 0, rightTotal: 0) == 0)
    }
}
