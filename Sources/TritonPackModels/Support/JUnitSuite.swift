import Foundation

/// A JUnit XML test suite for CI test views: the one writer of smoke's and lint's JUnit reports.
public struct JUnitSuite: Sendable {
    public struct Failure: Sendable {
        public var message: String
        public var type: String?
        public var text: String

        public init(message: String, type: String? = nil, text: String) {
            self.message = message
            self.type = type
            self.text = text
        }
    }

    public struct Case: Sendable {
        public var classname: String
        public var name: String
        /// nil when not measured (written as 0).
        public var seconds: Double?
        public var failure: Failure?
        public var systemOut: String?

        public init(classname: String, name: String, seconds: Double?, failure: Failure? = nil, systemOut: String? = nil) {
            self.classname = classname
            self.name = name
            self.seconds = seconds
            self.failure = failure
            self.systemOut = systemOut
        }
    }

    public var name: String
    /// nil when not measured (written as 0).
    public var seconds: Double?
    public var properties: [(name: String, value: String)]
    public var cases: [Case]

    public init(name: String, seconds: Double?, properties: [(name: String, value: String)] = [], cases: [Case]) {
        self.name = name
        self.seconds = seconds
        self.properties = properties
        self.cases = cases
    }

    public var xml: String {
        let escape = XMLText.escaped
        var xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        xml +=
            "<testsuite name=\"\(escape(name))\" tests=\"\(cases.count)\" failures=\"\(cases.filter { $0.failure != nil }.count)\" time=\"\(Self.time(seconds))\">\n"
        if !properties.isEmpty {
            xml += "  <properties>\n"
            for property in properties {
                xml += "    <property name=\"\(escape(property.name))\" value=\"\(escape(property.value))\"/>\n"
            }
            xml += "  </properties>\n"
        }
        for testCase in cases {
            xml +=
                "  <testcase classname=\"\(escape(testCase.classname))\" name=\"\(escape(testCase.name))\" time=\"\(Self.time(testCase.seconds))\""
            if testCase.failure == nil && testCase.systemOut == nil {
                xml += "/>\n"
                continue
            }
            xml += ">\n"
            if let failure = testCase.failure {
                xml += "    <failure message=\"\(escape(failure.message))\""
                if let type = failure.type { xml += " type=\"\(escape(type))\"" }
                xml += ">\(escape(failure.text))</failure>\n"
            }
            if let systemOut = testCase.systemOut { xml += "    <system-out>\(escape(systemOut))</system-out>\n" }
            xml += "  </testcase>\n"
        }
        return xml + "</testsuite>\n"
    }

    private static func time(_ seconds: Double?) -> String { seconds.map { String(format: "%.3f", $0) } ?? "0" }
}
