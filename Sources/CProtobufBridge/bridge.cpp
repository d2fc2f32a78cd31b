#include "CProtobufBridge.h"

#include <cstdlib>
#include <cstring>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>

namespace pb = google::protobuf;

namespace {

const unsigned char kDescriptorSet[] = {
#include "descriptor_set.inc"
};

struct Schema {
  pb::DescriptorPool pool;
  pb::DynamicMessageFactory factory{&pool};

  Schema() {
    pb::FileDescriptorSet set;
    if (!set.ParseFromArray(kDescriptorSet, sizeof(kDescriptorSet))) std::abort();
    for (const auto &file : set.file()) {
      if (pool.BuildFile(file) == nullptr) std::abort();
    }
  }

  std::unique_ptr<pb::Message> NewMessage(const char *type_name) {
    const pb::Descriptor *descriptor = pool.FindMessageTypeByName(type_name);
    if (descriptor == nullptr) return nullptr;
    return std::unique_ptr<pb::Message>(factory.GetPrototype(descriptor)->New());
  }
};

Schema &SharedSchema() {
  static Schema *schema = new Schema();
  return *schema;
}

char *CopyString(const std::string &text) {
  char *copy = static_cast<char *>(std::malloc(text.size() + 1));
  std::memcpy(copy, text.data(), text.size());
  copy[text.size()] = '\0';
  return copy;
}

class FirstErrorCollector : public pb::io::ErrorCollector {
 public:
  bool has_error = false;
  int line = 0;
  int column = 0;
  std::string message;
  std::string warnings;

  void AddError(int l, pb::io::ColumnNumber c, const std::string &m) override {
    if (has_error) return;
    has_error = true;
    line = l + 1;
    column = c + 1;
    message = m;
  }
  void AddWarning(int l, pb::io::ColumnNumber c, const std::string &m) override {
    warnings += std::to_string(l + 1) + ":" + std::to_string(c + 1) + ": " + m + "\n";
  }
};

void CollectLocations(const pb::Message &message, const pb::TextFormat::ParseInfoTree &tree,
                      const std::string &prefix, std::string &out) {
  const pb::Descriptor *descriptor = message.GetDescriptor();
  const pb::Reflection *reflection = message.GetReflection();
  for (int i = 0; i < descriptor->field_count(); ++i) {
    const pb::FieldDescriptor *field = descriptor->field(i);
    std::string path = prefix.empty() ? field->name() : prefix + "." + field->name();
    auto record = [&](const std::string &where, int index) {
      pb::TextFormat::ParseLocation location = tree.GetLocation(field, index);
      if (location.line < 0) return false;
      out += where + "\t" + std::to_string(location.line + 1) + "\t" +
             std::to_string(location.column + 1) + "\n";
      return true;
    };
    if (field->is_repeated()) {
      int count = reflection->FieldSize(message, field);
      for (int index = 0; index < count; ++index) {
        std::string element = path + "[" + std::to_string(index) + "]";
        record(element, index);
        if (field->cpp_type() == pb::FieldDescriptor::CPPTYPE_MESSAGE) {
          const pb::TextFormat::ParseInfoTree *nested = tree.GetTreeForNested(field, index);
          if (nested != nullptr)
            CollectLocations(reflection->GetRepeatedMessage(message, field, index), *nested, element, out);
        }
      }
    } else if (record(path, -1) && field->cpp_type() == pb::FieldDescriptor::CPPTYPE_MESSAGE) {
      const pb::TextFormat::ParseInfoTree *nested = tree.GetTreeForNested(field, -1);
      if (nested != nullptr) CollectLocations(reflection->GetMessage(message, field), *nested, path, out);
    }
  }
}

class DocumentationStylePrinter {
 public:
  std::string Print(const pb::Message &message) {
    PrintFields(message, 0);
    return out_;
  }

 private:
  std::string out_;
  pb::TextFormat::Printer scalar_printer_;

  void Indent(int depth) { out_.append(static_cast<size_t>(depth) * 2, ' '); }

  std::string Scalar(const pb::Message &message, const pb::FieldDescriptor *field, int index) {
    std::string value;
    scalar_printer_.PrintFieldValueToString(message, field, index, &value);
    return value;
  }

  void PrintMessageBlock(const pb::Message &message, int depth) {
    std::vector<const pb::FieldDescriptor *> set_fields;
    message.GetReflection()->ListFields(message, &set_fields);
    if (set_fields.empty()) {
      out_ += "{ }";
      return;
    }
    out_ += "{\n";
    PrintFields(message, depth + 1);
    Indent(depth);
    out_ += "}";
  }

  void PrintFields(const pb::Message &message, int depth) {
    const pb::Descriptor *descriptor = message.GetDescriptor();
    const pb::Reflection *reflection = message.GetReflection();
    for (int i = 0; i < descriptor->field_count(); ++i) {
      const pb::FieldDescriptor *field = descriptor->field(i);
      bool is_message = field->cpp_type() == pb::FieldDescriptor::CPPTYPE_MESSAGE;
      if (field->is_map()) {
        for (int index = 0; index < reflection->FieldSize(message, field); ++index) {
          Indent(depth);
          out_ += field->name() + " ";
          PrintMessageBlock(reflection->GetRepeatedMessage(message, field, index), depth);
          out_ += "\n";
        }
      } else if (field->is_repeated()) {
        int count = reflection->FieldSize(message, field);
        if (count == 0) continue;
        Indent(depth);
        if (is_message) {
          out_ += field->name() + " [\n";
          for (int index = 0; index < count; ++index) {
            Indent(depth + 1);
            PrintMessageBlock(reflection->GetRepeatedMessage(message, field, index), depth + 1);
            out_ += index + 1 < count ? ",\n" : "\n";
          }
          Indent(depth);
          out_ += "]\n";
        } else {
          out_ += field->name() + ": [ ";
          for (int index = 0; index < count; ++index) {
            if (index > 0) out_ += ", ";
            out_ += Scalar(message, field, index);
          }
          out_ += " ]\n";
        }
      } else if (reflection->HasField(message, field)) {
        Indent(depth);
        if (is_message) {
          out_ += field->name() + " ";
          PrintMessageBlock(reflection->GetMessage(message, field), depth);
          out_ += "\n";
        } else {
          out_ += field->name() + ": " + Scalar(message, field, -1) + "\n";
        }
      }
    }
  }
};

}  // namespace

extern "C" int tp_parse_text_format(const char *type_name, const char *text, size_t length,
                                    tp_text_parse *out) {
  std::memset(out, 0, sizeof(*out));
  std::unique_ptr<pb::Message> message = SharedSchema().NewMessage(type_name);
  if (!message) return 0;

  FirstErrorCollector errors;
  pb::TextFormat::ParseInfoTree tree;
  pb::TextFormat::Parser parser;
  parser.RecordErrorsTo(&errors);
  parser.WriteLocationsTo(&tree);
  bool parsed = parser.ParseFromString(std::string(text, length), message.get());

  out->warnings = CopyString(errors.warnings);
  if (!parsed) {
    out->ok = 0;
    out->error = CopyString(errors.has_error ? errors.message : "failed to parse text format");
    out->error_line = errors.line;
    out->error_column = errors.column;
    out->locations = CopyString("");
    return 1;
  }
  std::string binary;
  message->SerializeToString(&binary);
  out->ok = 1;
  out->message = static_cast<uint8_t *>(std::malloc(binary.size() + 1));
  std::memcpy(out->message, binary.data(), binary.size());
  out->message_length = binary.size();
  std::string locations;
  CollectLocations(*message, tree, "", locations);
  out->locations = CopyString(locations);
  return 1;
}

extern "C" void tp_text_parse_free(tp_text_parse *result) {
  std::free(result->message);
  std::free(result->error);
  std::free(result->warnings);
  std::free(result->locations);
  std::memset(result, 0, sizeof(*result));
}

extern "C" char *tp_print_text_format(const char *type_name, const uint8_t *bytes, size_t length) {
  std::unique_ptr<pb::Message> message = SharedSchema().NewMessage(type_name);
  if (!message) return nullptr;
  if (!message->ParseFromArray(bytes, static_cast<int>(length))) return nullptr;
  return CopyString(DocumentationStylePrinter().Print(*message));
}

extern "C" void tp_string_free(char *string) { std::free(string); }
