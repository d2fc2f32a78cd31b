import Foundation
import TritonPackModels

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// An XML element of an S3 response: name, text, children. S3's responses are small and flat
/// enough that a tree is the simplest way to read them.
package struct S3XMLElement: Sendable {
    package var name: String
    package var text: String = ""
    package var children: [S3XMLElement] = []

    package func child(_ name: String) -> S3XMLElement? { children.first { $0.name == name } }
    package func all(_ name: String) -> [S3XMLElement] { children.filter { $0.name == name } }
    package func string(_ name: String) -> String? { child(name)?.text }

    package static func parse(_ data: Data) -> S3XMLElement? {
        let builder = TreeBuilder()
        let parser = XMLParser(data: data)
        parser.delegate = builder
        guard parser.parse() else { return nil }
        return builder.root
    }

    private final class TreeBuilder: NSObject, XMLParserDelegate {
        var stack: [S3XMLElement] = []
        var root: S3XMLElement?

        func parser(
            _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName qName: String?,
            attributes attributeDict: [String: String] = [:]
        ) {
            stack.append(S3XMLElement(name: elementName))
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) {
            guard !stack.isEmpty else { return }
            stack[stack.count - 1].text += string
        }

        func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName qName: String?) {
            guard let element = stack.popLast() else { return }
            if stack.isEmpty {
                root = element
            } else {
                stack[stack.count - 1].children.append(element)
            }
        }
    }
}

package enum S3XMLWriter {

    package static func completeMultipartUpload(_ parts: [(number: Int, etag: String)]) -> Data {
        var xml = "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
        for part in parts.sorted(by: { $0.number < $1.number }) {
            xml += "<Part><PartNumber>\(part.number)</PartNumber><ETag>\(XMLText.escaped(part.etag))</ETag></Part>"
        }
        xml += "</CompleteMultipartUpload>"
        return Data(xml.utf8)
    }
}
