/// Names a bundle leaves out unless asked: files Triton does not need that may be private
/// (version control, editor state, hidden files such as `.env`, tritonpack's own lock and staging
/// folders) or that only cache what is already there (`__pycache__`).
package enum PrivateFiles {
    public static func isPrivate(_ name: String) -> Bool {
        if name.hasPrefix(".") { return true }
        if name == "__pycache__" { return true }
        if name.hasSuffix("~") { return true }
        if name.hasPrefix("#") && name.hasSuffix("#") { return true }
        if name.hasSuffix(".swp") || name.hasSuffix(".swo") { return true }
        return false
    }
}
