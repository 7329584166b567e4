#include "ui/gui/png_file.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include <png.h>

namespace bootsim::gui {

namespace {
struct FileCloser {
    void operator()(FILE* f) const { fclose(f); }
};
}  // namespace

Status write_png(const std::string& path, const Image& image)
{
    std::unique_ptr<FILE, FileCloser> file(fopen(path.c_str(), "wb"));
    if (!file)
        return make_error(ErrorKind::FileMissing, "{}: cannot write the screenshot: {}", path, strerror(errno));
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
    png_infop info = png ? png_create_info_struct(png) : nullptr;
    if (!info) {
        png_destroy_write_struct(&png, nullptr);
        return make_error(ErrorKind::FileMissing, "{}: libpng could not start", path);
    }
    // libpng reports errors by longjmp; nothing here needs unwinding.
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        return make_error(ErrorKind::FileMissing, "{}: cannot write the screenshot (libpng error)", path);
    }
    png_init_io(png, file.get());
    png_set_IHDR(png, info, png_uint_32(image.width), png_uint_32(image.height), 8, PNG_COLOR_TYPE_RGBA,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (int y = 0; y < image.height; ++y)
        png_write_row(png, image.rgba.data() + size_t(y) * size_t(image.width) * 4);
    png_write_end(png, nullptr);
    png_destroy_write_struct(&png, &info);
    if (fflush(file.get()) != 0)
        return make_error(ErrorKind::FileMissing, "{}: cannot write the screenshot: {}", path, strerror(errno));
    return Ok{};
}

Result<Image> read_png(const std::string& path)
{
    png_image png;
    std::memset(&png, 0, sizeof png);
    png.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_file(&png, path.c_str()))
        return make_error(ErrorKind::BadFormat, "{}: not a readable PNG: {}", path, png.message);
    png.format = PNG_FORMAT_RGBA;
    Image image;
    image.width = int(png.width);
    image.height = int(png.height);
    image.rgba.resize(PNG_IMAGE_SIZE(png));
    if (!png_image_finish_read(&png, nullptr, image.rgba.data(), 0, nullptr))
        return make_error(ErrorKind::BadFormat, "{}: not a readable PNG: {}", path, png.message);
    return image;
}

}  // namespace bootsim::gui
