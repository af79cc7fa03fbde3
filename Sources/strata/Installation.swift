import Foundation

/// Where this strata is installed, and what was installed beside it.
enum Installation {
    /// This executable's own path, symbolic links resolved.
    static var executable: URL { URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath() }

    /// The Python for SQLAlchemy models and Alembic imports when strata.toml
    /// names none: the virtualenv's own interpreter when strata was installed
    /// into one (`pip install strata-migrate` puts strata in VENV/bin, beside
    /// python3, under VENV/pyvenv.cfg), so that the SQLAlchemy installed there
    /// is found without activating it; else `python3` on PATH.
    static var python: String {
        let bin = executable.deletingLastPathComponent()
        let python = bin.appendingPathComponent("python3").path
        let marker = bin.deletingLastPathComponent().appendingPathComponent("pyvenv.cfg").path
        guard FileManager.default.fileExists(atPath: marker), FileManager.default.isExecutableFile(atPath: python) else { return "python3" }
        return python
    }
}
