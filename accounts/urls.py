from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("account/", views.account, name="account"),
    path("account/language/", views.account_language, name="language"),
]
