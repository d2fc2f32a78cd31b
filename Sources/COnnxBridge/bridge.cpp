#include "COnnxBridge.h"

#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <set>
#include <string>
#include <unistd.h>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl.h>
#include <onnx/checker.h>
#include <onnx/common/constants.h>
#include <onnx/defs/schema.h>
#include <onnx/onnx_pb.h>
#include <onnx/shape_inference/implementation.h>

namespace {

std::string Quote(const std::string &text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buffer[8];
          std::snprintf(buffer, sizeof buffer, "\\u%04x", c);
          out += buffer;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

std::string Describe(const onnx::ValueInfoProto &value) {
  std::string kind = "unknown";
  int elem_type = 0;
  std::string dims = "null";
  const onnx::TypeProto &type = value.type();
  switch (type.value_case()) {
    case onnx::TypeProto::kTensorType: {
      kind = "tensor";
      elem_type = type.tensor_type().elem_type();
      if (type.tensor_type().has_shape()) {
        dims = "[";
        const auto &shape = type.tensor_type().shape();
        for (int i = 0; i < shape.dim_size(); ++i) {
          if (i > 0) dims += ",";
          const auto &dim = shape.dim(i);
          dims += dim.has_dim_value() ? std::to_string(dim.dim_value()) : "-1";
        }
        dims += "]";
      }
      break;
    }
    case onnx::TypeProto::kSequenceType: kind = "sequence"; break;
    case onnx::TypeProto::kMapType: kind = "map"; break;
    case onnx::TypeProto::kOptionalType: kind = "optional"; break;
    case onnx::TypeProto::kSparseTensorType: kind = "sparse_tensor"; break;
    default: break;
  }
  return "{\"name\":" + Quote(value.name()) + ",\"kind\":\"" + kind + "\",\"elem_type\":" +
         std::to_string(elem_type) + ",\"dims\":" + dims + "}";
}

char *Copy(const std::string &text) {
  char *copy = static_cast<char *>(std::malloc(text.size() + 1));
  std::memcpy(copy, text.data(), text.size() + 1);
  return copy;
}

bool LoadModel(const char *path, onnx::ModelProto &model, std::string &error) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    error = std::string("cannot open: ") + std::strerror(errno);
    return false;
  }
  google::protobuf::io::FileInputStream raw(fd);
  raw.SetCloseOnDelete(true);
  google::protobuf::io::CodedInputStream coded(&raw);
  coded.SetTotalBytesLimit(INT32_MAX);
  if (!model.ParseFromCodedStream(&coded) || !coded.ConsumedEntireMessage()) {
    error = "not a readable ONNX ModelProto (protobuf parse failed)";
    return false;
  }
  return true;
}

}  // namespace

extern "C" char *tp_onnx_describe(const char *path) {
  onnx::ModelProto model;
  std::string load_error;
  if (!LoadModel(path, model, load_error)) return Copy("{\"load_error\":" + Quote(load_error) + "}");

  std::set<std::string> external;
  std::string initializers;
  for (const auto &tensor : model.graph().initializer()) {
    if (!initializers.empty()) initializers += ",";
    initializers += Quote(tensor.name());
    if (tensor.data_location() == onnx::TensorProto::EXTERNAL) {
      for (const auto &entry : tensor.external_data())
        if (entry.key() == "location") external.insert(entry.value());
    }
  }

  // The checker and shape inference know the IR versions and default-domain opsets of this
  // libonnx only; newer files (IR 9 float8, IR 10 int4, opsets 18+) are described from the
  // ModelProto as declared, which protobuf parses whatever the version.
  std::string skipped;
  const int64_t known_ir = onnx::IR_VERSION;
  int known_opset = 0;
  const auto &ranges = onnx::OpSchemaRegistry::DomainToVersionRange::Instance().Map();
  auto range = ranges.find(onnx::ONNX_DOMAIN);
  if (range != ranges.end()) known_opset = range->second.second;
  if (model.ir_version() > known_ir) {
    skipped = "IR version " + std::to_string(model.ir_version()) + " is newer than the IR " +
              std::to_string(known_ir) + " this libonnx knows";
  } else {
    for (const auto &opset : model.opset_import()) {
      if ((opset.domain().empty() || opset.domain() == "ai.onnx") && opset.version() > known_opset) {
        skipped = "opset " + std::to_string(opset.version()) + " is newer than the opset " +
                  std::to_string(known_opset) + " this libonnx knows";
      }
    }
  }

  std::string check_error;
  if (skipped.empty()) {
    try {
      if (external.empty()) {
        onnx::checker::check_model(model);
      } else {
        onnx::checker::check_model(std::string(path));
      }
    } catch (const std::exception &error) {
      check_error = error.what();
    }
  }

  std::string inference_error;
  if (check_error.empty() && skipped.empty()) {
    try {
      onnx::shape_inference::InferShapes(model);
    } catch (const std::exception &error) {
      inference_error = error.what();
    }
  }

  std::string out = "{\"ir_version\":" + std::to_string(model.ir_version()) + ",\"opsets\":[";
  for (int i = 0; i < model.opset_import_size(); ++i) {
    if (i > 0) out += ",";
    out += "{\"domain\":" + Quote(model.opset_import(i).domain()) +
           ",\"version\":" + std::to_string(model.opset_import(i).version()) + "}";
  }
  out += "],\"inputs\":[";
  for (int i = 0; i < model.graph().input_size(); ++i) {
    if (i > 0) out += ",";
    out += Describe(model.graph().input(i));
  }
  out += "],\"outputs\":[";
  for (int i = 0; i < model.graph().output_size(); ++i) {
    if (i > 0) out += ",";
    out += Describe(model.graph().output(i));
  }
  out += "],\"initializers\":[" + initializers + "],\"external_data\":[";
  bool first = true;
  for (const auto &location : external) {
    if (!first) out += ",";
    first = false;
    out += Quote(location);
  }
  out += "],\"check_error\":" + Quote(check_error) + ",\"inference_error\":" + Quote(inference_error) +
         ",\"checker_skipped\":" + Quote(skipped) + "}";
  return Copy(out);
}

extern "C" void tp_onnx_free(char *text) { std::free(text); }
